// The sandbox web chat: a Telegram-like view of the sandbox's world, driven through its control API.
// Plain browser JavaScript, no build step, no network beyond this server. Every piece of message text
// is put in the page with createElement/textContent (rendered from text + entities), never innerHTML.
"use strict";

const TEXTS = {
  zh: {
    brand: "服务助手 · 沙盒", actAs: "身份", actorHint: "以此用户的身份发言、回复和按按钮", clockPanel: "培训时钟",
    connecting: "连接中…", live: "实时", offline: "已断开，重连中…", clockTitle: "培训时钟（仅演示模式）",
    botTime: "机器人时间", refresh: "刷新", postMorning: "立即发布早报", postTea: "立即发布下午茶", minutes: "分钟",
    advance: "拨快时钟", chats: "聊天", backToChats: "返回聊天列表", cancelReply: "取消回复",
    placeholder: "写消息…", composeHint: "Enter 发送，Shift+Enter 换行，输入 @ 提及", mentions: "提及", send: "发送", ok: "确定",
    groups: "群组", privates: "私聊", privateWith: "私聊：{name}", members: "{n} 位成员", privateSub: "与 {bot} 的私聊",
    noMessages: "还没有消息", edited: "已编辑", reply: "回复", forward: "转发给机器人", forwardedFrom: "转发自 {name}",
    pinned: "置顶消息", allTopics: "全部", topic: "话题：{name}", photo: "[图片]", forwarded: "已转发给机器人",
    noHook: "未连接机器人：{desc}。请用 `servicebot demo` 启动演示。", hookError: "出错了：{desc}",
    advanced: "时钟已拨快 {n} 分钟，现在 {now}", posted: "已发布：{what}", morning: "早报", tea: "下午茶",
    badMinutes: "分钟数必须是 1 到 10080 之间的整数", replyingTo: "回复 {name}", pressed: "已按下：{text}",
    sendFailed: "发送失败：{desc}", service: "服务消息", deletedMsg: "消息已删除", spoiler: "剧透（点击显示）",
    you: "（你）", langButton: "English",
    tapCommand: "点按发送此命令", commandMenu: "命令菜单", commands: "命令",
    notMember: "{name} 不在「{chat}」中。以谁的身份发言？", actingAs: "现在以 {name} 的身份发言（私聊只能由本人发言）",
    noSuchMessage: "找不到这条消息（可能已删除）", unknownChat: "沙盒里没有这个聊天：{link}",
    openInChat: "在沙盒聊天中打开",
  },
  en: {
    brand: "Servicebot · Sandbox", actAs: "Act as", actorHint: "Write, reply and press buttons as this user",
    clockPanel: "Training clock", connecting: "Connecting…", live: "Live", offline: "Disconnected, reconnecting…",
    clockTitle: "Training clock (demo only)", botTime: "Bot time", refresh: "Refresh", postMorning: "Post morning brief now",
    postTea: "Post afternoon tea now", minutes: "Minutes", advance: "Advance clock", chats: "Chats",
    backToChats: "Back to chats", cancelReply: "Cancel reply",
    placeholder: "Message…", composeHint: "Enter sends, Shift+Enter is a new line, type @ to mention", mentions: "Mentions", send: "Send", ok: "OK",
    groups: "Groups", privates: "Private chats", privateWith: "Private: {name}", members: "{n} members",
    privateSub: "Private chat with {bot}", noMessages: "No messages yet", edited: "edited", reply: "Reply",
    forward: "Forward to bot", forwardedFrom: "Forwarded from {name}", pinned: "Pinned message", allTopics: "All",
    topic: "Topic: {name}", photo: "[photo]", forwarded: "Forwarded to the bot",
    noHook: "No bot connected: {desc}. Start the demo with `servicebot demo`.", hookError: "Error: {desc}",
    advanced: "Clock advanced by {n} min, now {now}", posted: "Posted: {what}", morning: "morning brief",
    tea: "afternoon tea", badMinutes: "Minutes must be a whole number from 1 to 10080", replyingTo: "Reply to {name}",
    pressed: "Pressed: {text}", sendFailed: "Could not send: {desc}", service: "service message",
    deletedMsg: "message deleted", spoiler: "Spoiler (click to show)", you: " (you)", langButton: "中文",
    tapCommand: "Tap to send this command", commandMenu: "Command menu", commands: "Commands",
    notMember: "{name} is not in “{chat}”. Write as whom?", actingAs: "Now writing as {name} (a private chat is written by its owner)",
    noSuchMessage: "This message is not there (deleted?)", unknownChat: "No such chat in the sandbox: {link}",
    openInChat: "Open in the sandbox chat",
  },
};

const TZ = "Asia/Shanghai";
const state = {
  lang: "zh",
  world: null,            // GET /sandbox/world
  users: new Map(),       // id -> user
  chats: [],              // GET /sandbox/chats
  current: null,          // chat id
  topic: null,            // forum topic id filter (null: all)
  actor: null,            // user id we act as
  messages: new Map(),    // chat id -> [records] (loaded chats only)
  unread: new Map(),      // chat id -> count
  replyTo: null,          // message id
  pendingQueries: new Set(), // callback_query ids pressed from this page
  shownAnswers: new Set(),
  mention: { open: false, kind: "mention", items: [], index: 0, start: 0 },
  commands: { key: "", list: [] },   // the bot's "/" menu for the current chat and actor (getMyCommands)
};

const $ = (id) => document.getElementById(id);

function t(key, params = {}) {
  const table = TEXTS[state.lang] || TEXTS.zh;
  const raw = table[key] ?? TEXTS.zh[key] ?? key;
  return raw.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ------------------------------------------------------------------ server calls

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch { data = null; }
  if (!resp.ok) {
    const desc = (data && (data.error || data.description)) || `${resp.status} ${resp.statusText}`;
    const err = new Error(desc);
    err.status = resp.status;
    err.data = data;
    throw err;
  }
  return data;
}

// ------------------------------------------------------------------ people and chats

function userName(id) {
  if (state.world && id === state.world.bot.id) return state.world.bot.first_name;
  const u = state.users.get(id);
  if (!u) return String(id);
  return u.last_name ? `${u.first_name} ${u.last_name}` : u.first_name;
}

function colorFor(id) {
  const palette = ["#e17076", "#eda86c", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae", "#3c8fbd"];
  return palette[Math.abs(Number(id)) % palette.length];
}

function chatById(id) { return state.chats.find((c) => c.id === id) || null; }

function chatTitle(chat) {
  if (!chat) return "—";
  return chat.type === "private" ? t("privateWith", { name: userName(chat.id) }) : chat.title;
}

function isPrivate(id) { return id > 0; }

function humanMembers(chat) {
  const botId = state.world ? state.world.bot.id : null;
  return (chat ? chat.members : []).filter((m) => m !== botId && state.users.has(m));
}

// ------------------------------------------------------------------ Telegram text: text + entities -> DOM

const LINK_SCHEMES = ["http:", "https:", "mailto:", "tel:", "tg:"];

function safeHref(raw) {
  try {
    const url = new URL(raw, location.href);
    return LINK_SCHEMES.includes(url.protocol) ? url.href : null;
  } catch { return null; }
}

function entityElement(ent, text) {
  const piece = text.slice(ent.offset, ent.end);
  switch (ent.type) {
    case "bold": return [el("strong")];
    case "italic": return [el("em")];
    case "underline": return [el("u")];
    case "strikethrough": return [el("s")];
    case "code": return [el("code")];
    case "pre": {
      const code = el("code", ent.language ? { class: `language-${ent.language}`, "data-language": ent.language } : {});
      return [el("pre", {}, code), code];
    }
    case "blockquote": return [el("blockquote")];
    case "expandable_blockquote": {
      // Telegram shows an expandable quote collapsed to 3 lines with the ability to show the full text
      // (Bot API 7.4; TDLib textEntityTypeExpandableBlockQuote): a tap unfolds it, another folds it again
      const q = el("blockquote", { class: "expandable", tabindex: "0", role: "button", "aria-expanded": "false" });
      const toggle = () => {
        const open = q.classList.toggle("expanded");
        q.setAttribute("aria-expanded", String(open));
      };
      q.addEventListener("click", toggle);
      q.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
      return [q];
    }
    case "spoiler": {
      const s = el("span", { class: "spoiler", tabindex: "0", role: "button", title: t("spoiler"), "aria-label": t("spoiler") });
      const reveal = () => { s.classList.add("revealed"); s.removeAttribute("role"); s.removeAttribute("tabindex"); s.removeAttribute("aria-label"); };
      s.addEventListener("click", reveal);
      s.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); reveal(); } });
      return [s];
    }
    case "text_link": case "url": case "email": case "phone_number": {
      let href = ent.type === "text_link" ? ent.url : piece;
      if (ent.type === "url" && !/^[a-z][a-z0-9+.-]*:/i.test(href)) href = `http://${href}`;
      if (ent.type === "email") href = `mailto:${piece}`;
      if (ent.type === "phone_number") href = `tel:${piece.replace(/[^\d+]/g, "")}`;
      const safe = safeHref(href || "");
      if (!safe) return [el("span", { class: "link-blocked" })];
      const inner = messageLinkTarget(safe);
      if (inner) return [internalLink(inner, safe)];
      return [el("a", { href: safe, target: "_blank", rel: "noopener noreferrer" })];
    }
    case "bot_command": {
      // Telegram's apps make commands in messages tappable: a tap sends the command
      // (https://core.telegram.org/bots/features#commands)
      const b = el("button", { type: "button", class: "bot_command", title: t("tapCommand"), "data-command": piece });
      b.addEventListener("click", () => sendCommand(piece));
      return [b];
    }
    case "mention": case "hashtag": case "cashtag":
      return [el("span", { class: ent.type })];
    case "text_mention":
      return [el("span", { class: "mention", title: ent.user ? userName(ent.user.id) : "" })];
    default:
      return [el("span", { class: `entity-${String(ent.type).replace(/[^a-z_]/g, "")}` })];
  }
}

// t.me links to a message (https://core.telegram.org/api/links#message-links): t.me/c/<id>/<msg>,
// t.me/c/<id>/<thread>/<msg> (a private supergroup: chat id -100<id>) and t.me/<username>/<msg>.
// Offline they lead nowhere, so the web chat opens the message itself.
function messageLinkTarget(href) {
  let url;
  try { url = new URL(href); } catch { return null; }
  if (!["t.me", "telegram.me", "www.t.me"].includes(url.hostname)) return null;
  const parts = url.pathname.split("/").filter(Boolean);
  const numeric = (x) => /^\d+$/.test(x || "");
  if (parts[0] === "c" && numeric(parts[1]) && numeric(parts[parts.length - 1]) && (parts.length === 3 || parts.length === 4)) {
    return { chatId: Number(`-100${parts[1]}`), messageId: Number(parts[parts.length - 1]) };
  }
  if (parts.length === 2 && numeric(parts[1]) && state.world) {
    const chat = state.world.chats.find((c) => c.username && c.username.toLowerCase() === parts[0].toLowerCase());
    if (chat) return { chatId: chat.id, messageId: Number(parts[1]) };
  }
  return null;
}

function internalLink(target, original) {
  const a = el("a", { href: `?chat=${target.chatId}#m-${target.chatId}-${target.messageId}`, class: "tg-link",
                      title: `${t("openInChat")} (${original})`, "data-chat-id": target.chatId, "data-message-id": target.messageId });
  a.addEventListener("click", (e) => { e.preventDefault(); goToMessage(target.chatId, target.messageId, original); });
  return a;
}

async function goToMessage(chatId, messageId, original) {
  if (!chatById(chatId)) await loadChats();
  if (!chatById(chatId)) { toast(t("unknownChat", { link: original }), true); return; }
  await openChat(chatId);
  if (!findMessage(chatId, messageId) || findMessage(chatId, messageId).deleted) { toast(t("noSuchMessage"), true); return; }
  jumpTo(messageId);
}

// Entities may nest and (rarely) overlap: walk the text segment by segment between entity boundaries,
// keeping a stack of open elements and re-opening an entity when an inner one outlives its parent.
function renderEntities(text, entities) {
  const frag = document.createDocumentFragment();
  const ents = (entities || [])
    .filter((e) => e && e.length > 0 && e.offset >= 0 && e.offset < text.length)
    .map((e, idx) => ({ ...e, end: Math.min(text.length, e.offset + e.length), idx }));
  const bounds = new Set([0, text.length]);
  for (const e of ents) { bounds.add(e.offset); bounds.add(e.end); }
  const points = [...bounds].sort((a, b) => a - b);
  const order = (a, b) => a.offset - b.offset || b.end - a.end || a.idx - b.idx;
  const stack = [];
  const top = () => (stack.length ? stack[stack.length - 1].inner : frag);
  for (let k = 0; k < points.length - 1; k++) {
    const s = points[k], e = points[k + 1];
    const active = ents.filter((x) => x.offset <= s && x.end >= e).sort(order);
    let keep = 0;
    while (keep < stack.length && keep < active.length && stack[keep].ent === active[keep]) keep++;
    stack.length = keep;
    for (let j = keep; j < active.length; j++) {
      const [outer, inner] = entityElement(active[j], text);
      top().append(outer);
      stack.push({ ent: active[j], inner: inner || outer });
    }
    top().append(document.createTextNode(text.slice(s, e)));
  }
  return frag;
}

function messageText(rec) {
  if (rec.plain_text != null) return rec.plain_text;
  if (rec.caption != null) return rec.caption;
  return "";
}

function snippet(rec) {
  if (!rec) return "…";
  const text = messageText(rec).replace(/\s+/g, " ").trim();
  if (rec.photo && !text) return t("photo");
  return text.length > 80 ? `${text.slice(0, 80)}…` : text || (rec.service ? t("service") : "…");
}

// Days as Telegram shows them: a chip where the day changes (in the sandbox's time, which in the demo is
// the bot's training clock)
function dayKey(unix) {
  return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: TZ })
    .format(new Date(unix * 1000));
}

function dayChip(unix) {
  const label = new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN",
    { year: "numeric", month: "long", day: "numeric", weekday: "long", timeZone: TZ }).format(new Date(unix * 1000));
  return el("li", { class: "day", role: "separator", "data-day": dayKey(unix), text: label });
}

function timeOf(unix) {
  return new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN",
    { hour: "2-digit", minute: "2-digit", timeZone: TZ }).format(new Date(unix * 1000));
}

// ------------------------------------------------------------------ rendering: chat list

function renderChatList() {
  const list = $("chat-list");
  list.replaceChildren();
  const groups = state.chats.filter((c) => c.type !== "private" && !c.migrated_to);
  const privates = state.chats.filter((c) => c.type === "private");
  if (state.actor && !privates.some((c) => c.id === state.actor)) {
    privates.push({ id: state.actor, type: "private", title: userName(state.actor), members: [state.actor], topics: [],
                    message_count: 0, virtual: true });
  }
  const section = (label, chats) => {
    if (!chats.length) return;
    list.append(el("li", { class: "section", role: "presentation", text: label }));
    for (const c of chats) list.append(el("li", {}, chatItem(c)));
  };
  section(t("groups"), groups);
  section(t("privates"), privates);
}

function chatItem(chat) {
  const title = chatTitle(chat);
  const msgs = state.messages.get(chat.id);
  const last = msgs ? [...msgs].reverse().find((m) => !m.deleted) : null;
  const unread = state.unread.get(chat.id) || 0;
  const preview = last ? `${userName(last.sender_id)}: ${snippet(last)}` :
    (chat.type === "private" ? t("privateSub", { bot: userName(state.world.bot.id) }) : t("members", { n: humanMembers(chat).length }));
  return el("button", {
    type: "button", class: "chat-item", "data-chat-id": chat.id, "aria-current": chat.id === state.current ? "true" : null,
    onclick: () => openChat(chat.id),
  },
  el("span", { class: "avatar", "aria-hidden": "true", style: `background:${colorFor(chat.id)}`, text: [...title.replace(/^私聊：|^Private: /, "")][0] || "?" }),
  el("span", { class: "title", text: title }),
  unread ? el("span", { class: "badge", "aria-label": `${unread}`, text: String(unread) }) : null,
  el("span", { class: "preview", text: preview }));
}

// ------------------------------------------------------------------ rendering: the chat

function visible(rec) {
  if (rec.deleted) return false;
  if (state.topic === null) return true;
  return rec.message_thread_id === state.topic || rec.message_id === state.topic;
}

function renderChat() {
  const chat = chatById(state.current) || (state.current > 0 ? { id: state.current, type: "private", members: [], topics: [] } : null);
  $("chat-title").textContent = chatTitle(chat);
  $("chat-sub").textContent = !chat ? "" : chat.type === "private" ? t("privateSub", { bot: userName(state.world.bot.id) })
    : t("members", { n: humanMembers(chat).length });
  renderTopics(chat);
  const box = $("messages");
  box.replaceChildren();
  const msgs = (state.messages.get(state.current) || []).filter(visible);
  if (!msgs.length) box.append(el("li", { class: "empty", text: t("noMessages") }));
  let day = null;
  for (const rec of msgs) {
    if (!rec.service && dayKey(rec.date) !== day) { day = dayKey(rec.date); box.append(dayChip(rec.date)); }
    box.append(messageElement(rec));
  }
  renderPinned();
  box.scrollTop = box.scrollHeight;
}

function renderTopics(chat) {
  const bar = $("topics");
  bar.replaceChildren();
  if (!chat || !chat.is_forum || !chat.topics.length) { bar.hidden = true; state.topic = null; return; }
  bar.hidden = false;
  const tab = (id, label) => el("button", {
    type: "button", role: "tab", "aria-selected": state.topic === id ? "true" : "false", "data-topic-id": id ?? "",
    onclick: () => { state.topic = id; renderChat(); }, text: label,
  });
  bar.append(tab(null, t("allTopics")));
  for (const tp of chat.topics) bar.append(tab(tp.id, tp.name));
}

function renderPinned() {
  const msgs = (state.messages.get(state.current) || []).filter((m) => m.pinned && !m.deleted);
  const btn = $("pinned");
  if (!msgs.length) { btn.hidden = true; return; }
  const rec = msgs[msgs.length - 1];
  btn.hidden = false;
  btn.replaceChildren(el("span", { class: "label", text: t("pinned") }), el("span", { text: snippet(rec) }));
  btn.onclick = () => jumpTo(rec.message_id);
}

function jumpTo(messageId) {
  const node = document.getElementById(`m-${state.current}-${messageId}`);
  if (!node) return;
  node.scrollIntoView({ block: "center", behavior: "smooth" });
  node.classList.remove("flash");
  void node.offsetWidth;
  node.classList.add("flash");
  const focusable = node.querySelector("button, a");
  if (focusable) focusable.focus({ preventScroll: true });
}

function findMessage(chatId, messageId) {
  return (state.messages.get(chatId) || []).find((m) => m.message_id === messageId) || null;
}

function wasTextEdited(rec) {
  // editMessageReplyMarkup only changes the keyboard: Telegram does not mark that "edited"
  return Boolean(rec.edit_date) && (rec.edits || []).some((e) => !("reply_markup" in e));
}

function messageElement(rec) {
  const chat = chatById(rec.chat_id);
  const botId = state.world.bot.id;
  const out = rec.sender_id === state.actor;
  const li = el("li", {
    id: `m-${rec.chat_id}-${rec.message_id}`, class: `msg${out ? " out" : ""}${rec.sender_id === botId ? " bot" : ""}`,
    "data-message-id": rec.message_id, "data-sender-id": rec.sender_id,
  });
  if (rec.service) {
    li.className = "msg service";
    li.textContent = rec.service.migrate_to_chat_id ? `→ ${rec.service.migrate_to_chat_id}` :
      rec.service.migrate_from_chat_id ? `← ${rec.service.migrate_from_chat_id}` : t("service");
    return li;
  }
  const head = el("div", { class: "sender", style: `color:${colorFor(rec.sender_id)}`,
                           text: userName(rec.sender_id) + (out ? t("you") : "") });
  if (chat && chat.is_forum && state.topic === null && rec.message_thread_id) {
    const tp = chat.topics.find((x) => x.id === rec.message_thread_id);
    if (tp) head.append(el("span", { class: "topic-tag", text: `# ${tp.name}` }));
  }
  li.append(head);
  if (rec.forward_origin) {
    const o = rec.forward_origin;
    const name = o.sender_user ? userName(o.sender_user.id) : o.chat ? o.chat.title : o.sender_user_name || "?";
    li.append(el("div", { class: "forward", text: t("forwardedFrom", { name }) }));
  }
  const isTopicRoot = chat && chat.is_forum && rec.reply_to_message_id === rec.message_thread_id && !findMessage(rec.chat_id, rec.reply_to_message_id);
  if (rec.reply_to_message_id && !isTopicRoot) {
    const target = findMessage(rec.chat_id, rec.reply_to_message_id);
    li.append(el("button", { type: "button", class: "quote", "data-reply-to": rec.reply_to_message_id,
                             onclick: () => jumpTo(rec.reply_to_message_id) },
      el("strong", { text: target ? userName(target.sender_id) : "…" }),
      el("span", { text: target && !target.deleted ? snippet(target) : t("deletedMsg") })));
  }
  if (rec.photo && rec.photo_file_id) {
    li.append(el("img", { class: "photo", src: `/file/botweb/photos/${encodeURIComponent(rec.photo_file_id)}.jpg`,
                          alt: rec.caption ? rec.caption.slice(0, 120) : t("photo"), loading: "lazy" }));
  }
  const text = messageText(rec);
  if (text) {
    const body = el("div", { class: "text" });
    body.append(renderEntities(text, rec.entities));
    li.append(body);
  }
  li.append(el("div", { class: "meta" },
    rec.pinned ? el("span", { text: "📌", title: t("pinned") }) : null,
    wasTextEdited(rec) ? el("span", { class: "edited", text: t("edited") }) : null,
    el("time", { datetime: new Date(rec.date * 1000).toISOString(), text: timeOf(rec.date) })));
  const kb = rec.reply_markup && rec.reply_markup.inline_keyboard;
  if (kb && kb.length) {
    const box = el("div", { class: "keyboard", role: "group" });
    for (const row of kb) {
      const r = el("div", { class: "kb-row" });
      for (const b of row) r.append(keyboardButton(rec, b));
      box.append(r);
    }
    li.append(box);
  }
  li.append(el("div", { class: "actions" },
    el("button", { type: "button", class: "act-reply", onclick: () => startReply(rec), text: t("reply") }),
    rec.sender_id !== botId ? el("button", { type: "button", class: "act-forward", onclick: () => forwardToBot(rec), text: t("forward") }) : null));
  return li;
}

function keyboardButton(rec, b) {
  if (b.url) {
    const href = safeHref(b.url);
    const inner = href && messageLinkTarget(href);
    if (inner) {
      const a = internalLink(inner, href);
      a.className = "kb-btn";
      a.textContent = b.text;
      return a;
    }
    if (href) return el("a", { class: "kb-btn", href, target: "_blank", rel: "noopener noreferrer", text: `${b.text} ↗` });
  }
  if (b.callback_data === undefined) return el("button", { type: "button", class: "kb-btn", disabled: true, text: b.text });
  const btn = el("button", { type: "button", class: "kb-btn", "data-callback": b.callback_data, text: b.text });
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      const res = await api("POST", `/sandbox/users/${state.actor}/callbacks`,
        { chat_id: rec.chat_id, message_id: rec.message_id, data: b.callback_data });
      state.pendingQueries.add(res.callback_query_id);
      showAnswers(findMessage(rec.chat_id, rec.message_id));
    } catch (err) {
      toast(t("hookError", { desc: err.message }), true);
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

// ------------------------------------------------------------------ acting

function startReply(rec) {
  state.replyTo = rec.message_id;
  $("reply-bar").hidden = false;
  $("reply-bar-who").textContent = t("replyingTo", { name: userName(rec.sender_id) });
  $("reply-bar-snippet").textContent = snippet(rec);
  $("input").focus();
}

function cancelReply() {
  state.replyTo = null;
  $("reply-bar").hidden = true;
}

async function forwardToBot(rec) {
  try {
    await api("POST", `/sandbox/users/${state.actor}/messages`,
      { chat_id: state.actor, forward_from_chat_id: rec.chat_id, forward_from_message_id: rec.message_id });
    toast(t("forwarded"));
  } catch (err) {
    toast(t("sendFailed", { desc: err.message }), true);
  }
}

async function postText(text, { reply = true } = {}) {
  const body = { chat_id: state.current, text };
  if (reply && state.replyTo) body.reply_to_message_id = state.replyTo;
  else if (state.topic !== null) body.message_thread_id = state.topic;
  $("compose-error").textContent = "";
  try {
    await api("POST", `/sandbox/users/${state.actor}/messages`, body);
    return true;
  } catch (err) {
    $("compose-error").textContent = t("sendFailed", { desc: err.message });
    return false;
  }
}

async function sendMessage() {
  const input = $("input");
  const text = input.value.trim();
  if (!text || state.current === null || !canWrite()) return;
  if (await postText(text)) {
    input.value = "";
    autosize();
    cancelReply();
  }
}

// A tapped command (in a message or the "/" menu) is sent at once, as Telegram's apps do; in a group it
// names the bot ("/ask@servicebot"), so that only this bot takes it when several share the group.
async function sendCommand(command) {
  if (state.current === null) return;
  if (!canWrite()) { $("actor-ask").scrollIntoView({ block: "nearest" }); return; }
  let text = command.trim();
  if (!isPrivate(state.current) && !text.includes("@")) text = `${text}@${state.world.bot.username}`;
  await postText(text, { reply: false });
}

// ------------------------------------------------------------------ the "/" menu: the bot's commands

// Which list a user sees, as Telegram determines it (https://core.telegram.org/bots/api#determining-list-of-commands):
// the narrowest scope that has commands, each first with the user's language_code, then without. The sandbox
// resolves it (GET /sandbox/chats/{id}/commands), so the page and the tests share one rule.
async function loadCommands() {
  const chatId = state.current, actor = state.actor;
  if (chatId === null || !actor) return [];
  const key = `${chatId}:${actor}`;
  const user = state.users.get(actor);
  const query = new URLSearchParams({ user_id: String(actor) });
  if (user && user.language_code) query.set("language_code", user.language_code);
  let list = [];
  try {
    const resp = await fetch(`/sandbox/chats/${chatId}/commands?${query}`);
    const data = await resp.json();
    if (Array.isArray(data)) list = data;
  } catch (err) {
    list = [];
  }
  if (state.current === chatId && state.actor === actor) {
    state.commands = { key, list };
    $("commands-button").hidden = !list.length;
  }
  return list;
}

async function openCommandMenu() {
  const input = $("input");
  if (!input.value.startsWith("/")) { input.value = `/${input.value}`; }
  input.focus();
  input.setSelectionRange(1, 1);
  await loadCommands();
  updateMentions();
}

// ------------------------------------------------------------------ @mention autocomplete

function mentionCandidates() {
  const chat = chatById(state.current);
  const ids = isPrivate(state.current) ? [] : humanMembers(chat);
  const people = [{ id: state.world.bot.id, username: state.world.bot.username, name: state.world.bot.first_name }];
  for (const id of ids) {
    const u = state.users.get(id);
    if (u && u.username && id !== state.actor) people.push({ id, username: u.username, name: userName(id) });
  }
  return people;
}

function updateMentions() {
  const input = $("input");
  const before = input.value.slice(0, input.selectionStart);
  const c = /^\/([A-Za-z0-9_]{0,32})$/.exec(before);
  if (c) {
    // fetched again when "/" is typed afresh: the bot may have changed its commands meanwhile
    if (before === "/" || state.commands.key !== `${state.current}:${state.actor}`) {
      const key = state.commands.key, count = state.commands.list.length;
      loadCommands().then((list) => {
        const changed = state.commands.key !== key || list.length !== count;
        if (changed && /^\/\w*$/.test($("input").value)) updateMentions();
      }).catch(() => null);
    }
    const q = c[1].toLowerCase();
    const items = state.commands.list.filter((x) => x.command.startsWith(q));
    if (!items.length) return closeMentions();
    state.mention = { open: true, kind: "command", items, index: 0, start: 0 };
    renderMentions();
    return;
  }
  const m = /@([A-Za-z0-9_]{0,32})$/.exec(before);
  if (!m) return closeMentions();
  const q = m[1].toLowerCase();
  const items = mentionCandidates().filter((p) => p.username.toLowerCase().startsWith(q) || p.name.includes(m[1]));
  if (!items.length) return closeMentions();
  state.mention = { open: true, kind: "mention", items, index: 0, start: before.length - m[0].length };
  renderMentions();
}

function renderMentions() {
  const list = $("mentions");
  list.replaceChildren();
  const commands = state.mention.kind === "command";
  list.setAttribute("aria-label", t(commands ? "commands" : "mentions"));
  state.mention.items.forEach((p, i) => {
    const li = commands
      ? el("li", { id: `mention-${i}`, role: "option", "aria-selected": i === state.mention.index ? "true" : "false",
                   "data-command": p.command }, `/${p.command}`, el("small", { text: p.description }))
      : el("li", { id: `mention-${i}`, role: "option", "aria-selected": i === state.mention.index ? "true" : "false",
                   "data-username": p.username }, `@${p.username}`, el("small", { text: p.name }));
    li.addEventListener("mousedown", (e) => { e.preventDefault(); pickMention(i); });
    list.append(li);
  });
  list.hidden = false;
  $("input").setAttribute("aria-expanded", "true");
  $("input").setAttribute("aria-activedescendant", `mention-${state.mention.index}`);
}

function closeMentions() {
  state.mention.open = false;
  $("mentions").hidden = true;
  $("input").setAttribute("aria-expanded", "false");
  $("input").removeAttribute("aria-activedescendant");
}

function pickMention(i, { edit = false } = {}) {
  const input = $("input");
  const p = state.mention.items[i];
  if (state.mention.kind === "command") {
    // Telegram: choosing a command from the menu sends it; Tab puts it in the box to add to it
    closeMentions();
    if (edit) {
      input.value = `/${p.command} `;
      input.setSelectionRange(input.value.length, input.value.length);
      input.focus();
      return;
    }
    input.value = "";
    autosize();
    sendCommand(`/${p.command}`);
    return;
  }
  const start = state.mention.start;
  const end = input.selectionStart;
  let prefix = input.value.slice(0, start);
  // Telegram needs a space (or punctuation) around @name: "请问@servicebot老师" is not a mention
  if (prefix && /[\p{L}\p{N}_]$/u.test(prefix)) prefix += " ";
  const rest = input.value.slice(end).replace(/^\s*/, "");
  const insert = `@${p.username} `;
  input.value = prefix + insert + rest;
  const caret = (prefix + insert).length;
  input.setSelectionRange(caret, caret);
  closeMentions();
  input.focus();
}

function onInputKey(e) {
  if (state.mention.open) {
    const n = state.mention.items.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      state.mention.index = (state.mention.index + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      renderMentions();
      return;
    }
    if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); pickMention(state.mention.index, { edit: e.key === "Tab" }); return; }
    if (e.key === "Escape") { e.preventDefault(); closeMentions(); return; }
  }
  if (e.key === "Escape" && state.replyTo) { cancelReply(); return; }
  // Enter sends; Shift+Enter is a new line; never send while an IME (pinyin) is composing
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendMessage();
  }
}

function autosize() {
  const input = $("input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 144)}px`;
}

// ------------------------------------------------------------------ alerts and toasts

function toast(text, error = false) {
  const node = el("div", { class: `toast${error ? " error" : ""}`, role: error ? "alert" : "status", text });
  $("toasts").append(node);
  setTimeout(() => node.remove(), 4000);
}

function showAnswers(rec) {
  if (!rec) return;
  for (const a of rec.callback_answers || []) {
    const qid = a.callback_query_id;
    if (!state.pendingQueries.has(qid) || state.shownAnswers.has(qid)) continue;
    state.shownAnswers.add(qid);
    state.pendingQueries.delete(qid);
    if (!a.text) continue;
    if (a.show_alert) {
      $("alert-text").textContent = a.text;
      const dlg = $("alert-dialog");
      if (!dlg.open) dlg.showModal();
    } else {
      toast(a.text);
    }
  }
}

// ------------------------------------------------------------------ loading and live updates

async function loadChats() {
  state.chats = await api("GET", "/sandbox/chats");
  renderChatList();
}

async function loadMessages(chatId) {
  const recs = await api("GET", `/sandbox/chats/${chatId}/messages`);
  state.messages.set(chatId, recs);
  return recs;
}

async function openChat(chatId) {
  state.current = chatId;
  state.unread.delete(chatId);
  state.topic = null;
  cancelReply();
  closeMentions();
  $("compose-error").textContent = "";
  if (isPrivate(chatId) && state.actor !== chatId) {
    setActor(chatId, false);   // a private chat is written by its owner: say so, never silently
    toast(t("actingAs", { name: userName(chatId) }));
  }
  if (!state.messages.has(chatId)) await loadMessages(chatId);
  document.body.dataset.chat = String(chatId);
  $("layout").classList.add("show-chat");
  renderChatList();
  renderChat();
  renderActorAsk();
  loadCommands().catch(() => null);
  const url = new URL(location.href);
  url.searchParams.set("chat", String(chatId));
  url.searchParams.set("as", String(state.actor));
  history.replaceState(null, "", url);
}

function setActor(id, reopen = true) {
  state.actor = id;
  $("actor").value = String(id);
  document.body.dataset.actor = String(id);
  if (reopen && state.current !== null && isPrivate(state.current) && state.current !== id) {
    openChat(id);
    return;
  }
  if (reopen) {
    renderChatList();
    if (state.current !== null) renderChat();
    renderActorAsk();
    loadCommands().catch(() => null);
    const url = new URL(location.href);
    url.searchParams.set("as", String(id));
    history.replaceState(null, "", url);
  }
}

// May the person we act as write here? A group needs a member; opening one we are not in keeps who we
// act as and asks whom to act as instead (never a silent switch).
function canWrite() {
  if (state.current === null || isPrivate(state.current)) return true;
  return humanMembers(chatById(state.current)).includes(state.actor);
}

function renderActorAsk() {
  const bar = $("actor-ask");
  const ok = canWrite();
  $("input").disabled = !ok;
  $("send").disabled = !ok;
  $("commands-button").disabled = !ok;
  if (ok) { bar.hidden = true; bar.replaceChildren(); return; }
  const chat = chatById(state.current);
  bar.replaceChildren(el("span", { class: "ask-text", text: t("notMember", { name: userName(state.actor), chat: chatTitle(chat) }) }));
  for (const id of humanMembers(chat)) {
    bar.append(el("button", { type: "button", class: "ask-pick", "data-user-id": id, onclick: () => setActor(id), text: userName(id) }));
  }
  bar.hidden = false;
}

function upsert(chatId, rec) {
  const list = state.messages.get(chatId);
  if (!list) return null;
  const i = list.findIndex((m) => m.message_id === rec.message_id);
  if (i >= 0) list[i] = rec; else list.push(rec);
  return i >= 0 ? "edited" : "created";
}

async function onEvent(ev) {
  if (ev.type === "reset") {
    state.messages.clear();
    state.unread.clear();
    await loadChats();
    if (state.current !== null) { await loadMessages(state.current); renderChat(); }
    return;
  }
  const chatId = ev.chat_id;
  const rec = ev.message;
  if (!chatById(chatId)) await loadChats();
  const change = upsert(chatId, rec);
  if (change === null && chatId === state.current) { await loadMessages(chatId); renderChat(); renderChatList(); return; }
  if (ev.type === "message_created" && chatId !== state.current && !rec.deleted) {
    state.unread.set(chatId, (state.unread.get(chatId) || 0) + 1);
  }
  if (chatId === state.current) {
    const box = $("messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120 || rec.sender_id === state.actor;
    const node = document.getElementById(`m-${chatId}-${rec.message_id}`);
    if (node && visible(rec)) node.replaceWith(messageElement(rec));
    else if (node) node.remove();
    else if (visible(rec)) {
      const empty = box.querySelector(".empty");
      if (empty) empty.remove();
      const chips = box.querySelectorAll("li.day");
      const lastDay = chips.length ? chips[chips.length - 1].dataset.day : null;
      if (!rec.service && dayKey(rec.date) !== lastDay) box.append(dayChip(rec.date));
      box.append(messageElement(rec));
    }
    renderPinned();
    if (nearBottom && ev.type === "message_created") box.scrollTop = box.scrollHeight;
  }
  showAnswers(rec);
  renderChatList();
}

function connectEvents() {
  const live = $("live");
  const source = new EventSource("/sandbox/events");
  let opened = false;
  source.onopen = async () => {
    live.textContent = t("live");
    live.classList.add("on");
    document.body.dataset.live = "1";
    if (opened) {    // a reconnect: what happened meanwhile is fetched again
      state.messages.clear();
      await loadChats();
      if (state.current !== null) { await loadMessages(state.current); renderChat(); }
    }
    opened = true;
  };
  source.onerror = () => {
    live.textContent = t("offline");
    live.classList.remove("on");
    document.body.dataset.live = "0";
  };
  let chain = Promise.resolve();
  source.onmessage = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    chain = chain.then(() => onEvent(ev)).catch((err) => console.error(err));
  };
}

// ------------------------------------------------------------------ the training clock (demo-only hook)

async function demo(action, body, describe) {
  const status = $("clock-status");
  status.classList.remove("error");
  try {
    const res = await api("POST", `/sandbox/demo/${action}`, body);
    if (res && res.now) $("clock-now").textContent = formatNow(res.now);
    if (describe) status.textContent = describe(res);
    return res;
  } catch (err) {
    status.classList.add("error");
    status.textContent = err.status === 404 ? t("noHook", { desc: err.message }) : t("hookError", { desc: err.message });
    return null;
  }
}

function formatNow(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(state.lang === "en" ? "en-GB" : "zh-CN", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", weekday: "short", timeZone: TZ,
  }).format(d);
}

function setupClock() {
  const toggle = $("clock-toggle");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    $("clock-panel").hidden = !open;
    if (open) demo("clock", {});
  });
  $("clock-refresh").addEventListener("click", () => demo("clock", {}));
  for (const slot of ["morning", "tea"]) {
    $(`digest-${slot}`).addEventListener("click", () =>
      demo("digest", { slot }, () => t("posted", { what: t(slot) })));
  }
  $("advance").addEventListener("click", async () => {
    const raw = $("advance-minutes").value.trim();
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > 10080) {
      $("clock-status").classList.add("error");
      $("clock-status").textContent = t("badMinutes");
      return;
    }
    await demo("advance", { minutes: n }, (res) => t("advanced", { n, now: res && res.now ? formatNow(res.now) : "?" }));
  });
}

// ------------------------------------------------------------------ language

function applyLanguage() {
  document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.setAttribute("placeholder", t(node.dataset.i18nPlaceholder));
  $("lang-toggle").textContent = t("langButton");
  $("lang-toggle").lang = state.lang === "en" ? "zh-CN" : "en";
  $("input").setAttribute("aria-label", t("placeholder"));
  $("input").title = t("composeHint");
  document.title = t("brand");
  if ($("live").classList.contains("on")) $("live").textContent = t("live");
}

// ------------------------------------------------------------------ start

function fillActors() {
  const select = $("actor");
  select.replaceChildren();
  const seen = new Set();
  const botId = state.world.bot.id;
  for (const chat of state.world.chats) {
    const ids = chat.members.filter((m) => m !== botId && state.users.has(m) && !seen.has(m));
    if (!ids.length) continue;
    const group = el("optgroup", { label: chat.title });
    for (const id of ids) {
      seen.add(id);
      const u = state.users.get(id);
      group.append(el("option", { value: id, text: `${userName(id)}${u.username ? ` @${u.username}` : ""}` }));
    }
    select.append(group);
  }
  const others = [...state.users.keys()].filter((id) => !seen.has(id));
  if (others.length) {
    const group = el("optgroup", { label: "…" });
    for (const id of others) group.append(el("option", { value: id, text: userName(id) }));
    select.append(group);
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  state.lang = params.get("lang") === "en" || localStorage.getItem("sandbox-lang") === "en" ? "en" : "zh";
  applyLanguage();
  state.world = await api("GET", "/sandbox/world");
  for (const u of state.world.users) state.users.set(u.id, u);
  fillActors();
  connectEvents();
  await loadChats();
  const wantedActor = Number(params.get("as"));
  state.actor = state.users.has(wantedActor) ? wantedActor : (state.world.users.find((u) => !u.is_bot) || {}).id;
  $("actor").value = String(state.actor);
  document.body.dataset.actor = String(state.actor);
  const wantedChat = Number(params.get("chat"));
  const first = state.chats.find((c) => c.type !== "private");
  const chatId = wantedChat && (chatById(wantedChat) || wantedChat > 0) ? wantedChat : first ? first.id : state.actor;
  await Promise.all(state.chats.map((c) => loadMessages(c.id).catch(() => null)));
  await openChat(chatId);
  if (!params.get("chat") && window.matchMedia("(max-width: 700px)").matches) $("layout").classList.remove("show-chat");

  $("actor").addEventListener("change", (e) => setActor(Number(e.target.value)));
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); sendMessage(); });
  $("input").addEventListener("keydown", onInputKey);
  $("input").addEventListener("input", () => { autosize(); updateMentions(); });
  $("input").addEventListener("click", updateMentions);
  $("input").addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== $("input")) closeMentions(); }, 150));
  $("reply-cancel").addEventListener("click", cancelReply);
  $("commands-button").addEventListener("click", () => { openCommandMenu().catch((err) => console.error(err)); });
  $("back").addEventListener("click", () => { $("layout").classList.remove("show-chat"); });
  $("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "zh" : "en";
    localStorage.setItem("sandbox-lang", state.lang);
    applyLanguage();
    renderChatList();
    renderChat();
  });
  setupClock();
  document.body.dataset.ready = "1";
}

start().catch((err) => {
  console.error(err);
  toast(String(err.message || err), true);
});
