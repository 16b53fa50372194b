"""Is this message a question for the desk? A small, explainable, pure classifier.

The chat layer first says how a message reached the desk (:class:`Via`: /ask, a private chat, an @-mention
of the bot or staff, or what it replies to); :func:`classify` then reads the words and returns a
:class:`Decision`: a :class:`Verdict` and the reasons, as short codes that never quote the text (they
go to logs and tests; the text itself is never logged).

The rule, in order:

1. Not addressed to the desk at all -> ``chatter`` (the caller never gets here for most chatter).
2. No words (emoji, a sticker, "？", "+1" is words) -> ``empty`` when addressed directly (the ask hint),
   else ``ack``.
3. Thanks, acknowledgements, greetings and laughter are cut out ("好的，谢谢李老师！", "收到🙏", "在吗");
   what remains is searched for a **question cue**: a question mark, a sentence-final particle
   (吗/呢/么/嘛), an interrogative (怎么/如何/哪/几点/多少/是否/能不能/有没有/什么/为什么…, English
   wh-words and a leading auxiliary), a request verb (请问/麻烦您/求助/咨询/请教/想问/帮我…), or a
   problem report (打不开/没收到/办不了/报错…). A cue -> ``question`` (thanks with a question tucked in
   are a question).
4. No cue and nothing left -> ``thanks`` (when thanks were said), ``empty`` (a greeting said to the
   desk directly) or ``ack``.
5. No cue, but words left -> it depends on what it was said to: /ask, a private chat or an @-mention is
   a request to the desk (``question``: "@servicebot 医保卡丢了补办"); a reply to the asker's own
   answer or promise is a follow-up (``question``) when it says at least a few characters; a reply to
   an item that takes sign-ups is a ``signup``; a reply to a digest, a notice, another bot message or
   staff is a comment (``chatter``).

A reply to a sign-up item is a ``signup`` unless it asks something without signing up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Decision", "Verdict", "Via", "classify"]


class Via(StrEnum):
    """How a message reached the desk."""

    ASK = "ask"  # /ask 问题
    PRIVATE = "private"  # the member's private chat with the bot
    MENTION = "mention"  # @bot or @staff (mention, text_mention, or the name glued into the text)
    REPLY_ANSWER = "reply_answer"  # a reply to the answer to the sender's own ticket
    REPLY_PROMISE = "reply_promise"  # a reply to the bot's promise ("已受理 #N") to the sender
    REPLY_STAFF = "reply_staff"  # a reply to a staff member's message in the group
    REPLY_DIGEST = "reply_digest"  # a reply to a digest part
    REPLY_NOTICE = "reply_notice"  # a reply to an announcement / notice
    REPLY_SIGNUP = "reply_signup"  # a reply to an editors' item that takes sign-ups (报名)
    REPLY_BOT = "reply_bot"  # a reply to any other message of the bot (someone else's promise, a hint)
    NONE = "none"  # not addressed to the desk

    @property
    def direct(self) -> bool:
        """Said to the desk itself (not a reply to something the desk posted)."""
        return self in (Via.ASK, Via.PRIVATE, Via.MENTION)

    @property
    def own_ticket(self) -> bool:
        return self in (Via.REPLY_ANSWER, Via.REPLY_PROMISE)


class Verdict(StrEnum):
    QUESTION = "question"  # a ticket (or, replying to one's own ticket, a follow-up)
    THANKS = "thanks"  # recorded on the replied ticket, nothing else
    ACK = "ack"  # 好的/收到/👍: nothing
    EMPTY = "empty"  # addressed to the desk but says nothing to act on: the ask hint
    SIGNUP = "signup"  # a sign-up for an editors' item: to the editors' list
    CHATTER = "chatter"  # a comment, not for the desk


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    via: Via
    why: tuple[str, ...]  # reason codes (never words of the message)

    @property
    def is_question(self) -> bool:
        return self.verdict is Verdict.QUESTION

    def explain(self) -> str:
        """ "question via mention: cue=particle,wh" — safe to log."""
        return f"{self.verdict.value} via {self.via.value}: {', '.join(self.why) or '-'}"


# -- the cue words ----------------------------------------------------------------------------------------

# Thanks, acknowledgements, greetings, laughter: cut out before looking for a question. Longest first,
# so "谢谢您" goes as a whole. Matching is on the lower-cased, NFKC-normalised text.
# fmt: off
_THANKS = (
    "非常感谢", "十分感谢", "万分感谢", "感谢感谢", "谢谢谢谢", "谢谢您", "谢谢你", "谢谢啦", "谢谢了", "谢谢",
    "多谢", "感谢", "谢啦", "谢了", "蟹蟹", "3q", "thank you so much", "thank you", "thanks a lot", "thanks",
    "thx", "ty", "辛苦了", "辛苦啦", "辛苦您了", "辛苦", "麻烦您了", "麻烦你了", "麻烦了", "给力", "太好了",
    "太棒了", "感恩", "点赞", "赞赞", "赞",
)
_ACKS = (
    "好的呢", "好的吧", "好的", "好滴", "好嘞", "好哒", "好吧", "好呀", "好啊", "好", "收到啦", "收到了", "收到",
    "ok了", "okay", "ok", "okk", "嗯嗯", "嗯呢", "嗯", "哦哦", "哦", "噢", "明白了", "明白", "了解了", "了解",
    "知道了", "懂了", "清楚了", "可以了", "解决了", "搞定了", "搞定", "没问题", "没事了", "行", "对的", "是的",
    "对", "有道理", "学习了", "长知识了", "get", "got it", "noted", "great", "cool", "nice", "perfect", "sure",
    "understood", "不客气", "哪里哪里", "应该的", "老师", "李老师", "王老师", "工作人员", "小助手", "助手",
    "大家", "各位", "亲", "您", "你们", "你", "们", "了", "啦", "呀", "哈", "哈哈", "哈哈哈", "哈哈哈哈",
    "hhh", "lol", "haha", "真的吗", "是吗", "真的", "厉害", "牛", "这么快", "好快", "速度", "终于",
    "支持", "顶", "+1", "同问", "加油", "先这样", "稍等", "我看看", "我试试", "试试", "已阅", "已读", "1",
)
_GREETINGS = (
    "在吗", "在不在", "在么", "有人吗", "有人在吗", "你好", "您好", "大家好", "早上好", "早安", "早", "中午好",
    "下午好", "晚上好", "晚安", "hello", "hi", "hey", "good morning", "morning",
)
# fmt: on
_CUT = sorted({*_THANKS, *_ACKS, *_GREETINGS}, key=len, reverse=True)
# said to one's own answer after thanks/acks: "谢谢，不过我问的是异地就医" is a follow-up, not thanks
_CONTRAST = re.compile(r"不过|但是|可是|但|然而|却|还是|不对|没用|不是|问的是|另外|补充")
_THANKS_SET = set(_THANKS)
_GREETING_SET = set(_GREETINGS)

_QMARK = re.compile(r"[?？]")
# sentence-final particles: 吗/么/嘛 anywhere before a break; 呢 only at a clause's end ("那社保卡呢")
_PARTICLE = re.compile(r"(吗|么|嘛|呢)(?=$|[\s,，。.!！~～…、;；)）]|[\U0001F300-\U0001FAFF])")
_WH = re.compile(
    r"怎么(?!这么|那么)|怎样|咋|如何|为什么|为啥|什么|啥|哪|是否|多少|多久|多长|何时|何地|(?<![好这那十])几(?:点|号|月|天|个|岁|楼|路|层|年|周|次|时|份|张|块|元|钱|号线|级|套|人)"
    r"|(.)不\1|能否|可否|有没有|是不是|会不会|要不要|能不能|可不可以|行不行|对不对|可以不|好不好"
)
_REQUEST = re.compile(
    r"请问|请教|咨询|求助|求问|求解|求推荐|想问|问一下|问下|问问|打听|帮我|帮忙|帮个忙|麻烦(?!了|您了|你了|啦)"
    r"|想知道|想了解|想办|想申请|想查|想找|想要|想咨询|想预约|需要办|要办|怎么办|能帮|可以帮|请帮|请给|请发|求个|求"
)
_PROBLEM = re.compile(
    r"打不开|没收到|没有收到|收不到|办不了|进不去|登不上|登录不了|报错|出错|失败|不能用|用不了|找不到|丢了|弄丢|过期了"
    r"|没到账|未到账|没发|还没(?:到|有|收|人|回|答复|消息|通过|下来|办|批)|一直没|没人(?:回|理|管)|不显示|显示错误|扣错|填错|交不了|提交不了"
)
_EN_WH = re.compile(
    r"^(?:how|what|when|where|which|who|whom|whose|why|can|could|is|are|do|does|did|will|would|should|may|"
    r"shall|any|anyone|has|have)\b|\b(?:how (?:do|can|to|much|many|long)|what is|where is|is there|are there|"
    r"please|pls|plz|help|i need|need to|i want to|wondering|how come|any idea)\b"
)
_SIGNUP = re.compile(
    r"报名|参加|算我|我要去|我去|加我|\+\s*\d|\d+\s*(?:人|位|个人|大\d+小|大人)|一家|我们家|sign me up|count me in|join"
)
_URL = re.compile(r"https?://\S+|t\.me/\S+")
_HANDLE = re.compile(r"@[A-Za-z0-9_]{3,}")
_SPLIT = re.compile(r"[^\w?？+ ]+")  # clauses: split at punctuation and emoji ("thank you" stays whole)
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return _HANDLE.sub(" ", _URL.sub(" ", text))


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _strip_edges(clause: str) -> tuple[str, bool, bool, bool]:
    """A clause without the thanks/acks/greetings at its start and end ("好的谢谢李老师" -> "")."""
    thanked = greeted = acked = False
    changed = True
    while clause and changed:
        changed = False
        for phrase in _CUT:
            single = len(phrase) == 1
            if single and clause.strip(phrase):
                continue  # one character ("好", "了") goes only when it is all there is: "好几个" stays
            latin = phrase.isascii() and phrase[-1].isalnum()
            if clause.startswith(phrase) and not (latin and clause[len(phrase) : len(phrase) + 1].isalnum()):
                clause = clause[len(phrase) :].strip()
            elif clause.endswith(phrase) and not (
                latin and clause[-len(phrase) - 1 : -len(phrase)].isalnum()
            ):
                clause = clause[: -len(phrase)].strip()
            else:
                continue
            thanked = thanked or phrase in _THANKS_SET
            greeted = greeted or phrase in _GREETING_SET
            acked = acked or not (phrase in _THANKS_SET or phrase in _GREETING_SET)
            changed = True
            break
    return clause, thanked, greeted, acked


def _cut(text: str) -> tuple[str, bool, bool, bool]:
    """The text with thanks/acks/greetings removed clause by clause; whether thanks / a greeting / an ack were there."""
    thanked = greeted = acked = False
    kept = []
    text = _CJK_SPACE.sub(
        ",", re.sub(r"\s+([?？])", r"\1", text)
    )  # a space between Chinese words ends a clause
    for clause in _SPLIT.split(text):
        rest, t, g, a = _strip_edges(clause.strip())
        thanked, greeted, acked = thanked or t, greeted or g, acked or a
        if _has_words(rest):
            kept.append(rest)
    return " ".join(kept), thanked, greeted, acked


def _cues(original: str, rest: str) -> list[str]:
    """Question cues; the particle and mark are looked for in what is left after thanks/acks are cut."""
    cues = []
    if _QMARK.search(rest) and _has_words(rest):
        cues.append("qmark")
    if _PARTICLE.search(rest):
        cues.append("particle")
    if _WH.search(rest):
        cues.append("wh")
    if _REQUEST.search(rest):
        cues.append("request")
    if _PROBLEM.search(original):
        cues.append("problem")
    if _EN_WH.search(rest.strip()):
        cues.append("en-question")
    return cues


def _size(text: str) -> int:
    """Characters that carry meaning: CJK characters count one each, a Latin word counts two."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    words = len(re.findall(r"[a-z0-9]+", text))
    return cjk + 2 * words


def classify(text: str, via: Via, *, attachment: bool = False) -> Decision:
    """Is ``text`` (a message's text or caption) a question for the desk, given how it reached it?"""
    if via is Via.NONE:
        return Decision(Verdict.CHATTER, via, ("not-addressed",))
    norm = _normalise(text)
    if not _has_words(norm):
        why = ("no-words", "attachment") if attachment else ("no-words",)
        if attachment and via.direct:  # a screenshot sent to the bot with no caption: asks to look at it
            return Decision(Verdict.QUESTION, via, why)
        return Decision(Verdict.EMPTY if via.direct else Verdict.ACK, via, why)
    rest, thanked, greeted, acked = _cut(norm)
    cues = _cues(norm, rest)
    left = _size(rest)
    signup = via is Via.REPLY_SIGNUP and bool(_SIGNUP.search(norm))
    if signup:
        return Decision(Verdict.SIGNUP, via, ("signup-item", "signup-words", *(f"cue={c}" for c in cues)))
    if cues:
        return Decision(
            Verdict.QUESTION, via, ("cue=" + ",".join(cues), *(("thanks-too",) if thanked else ()))
        )
    if left == 0 or not _has_words(rest):
        if thanked:
            return Decision(Verdict.THANKS, via, ("thanks",))
        if via.direct:
            return Decision(Verdict.EMPTY, via, ("greeting" if greeted else "ack",))
        return Decision(Verdict.ACK, via, ("ack",))
    # words left, no cue: a statement
    if via.direct:
        if left >= 2 or attachment:
            return Decision(Verdict.QUESTION, via, ("statement-to-desk", f"size={min(left, 99)}"))
        return Decision(Verdict.EMPTY, via, ("too-short",))
    if via.own_ticket and (thanked or acked) and not _CONTRAST.search(rest):
        # "好的，我明天去试试", "多谢，这么快就回复了": a closing word on one's own ticket
        return Decision(
            Verdict.THANKS if thanked else Verdict.ACK, via, ("thanks" if thanked else "ack", "remark")
        )
    if via.own_ticket and left >= 4:
        return Decision(Verdict.QUESTION, via, ("statement-on-own-ticket", f"size={min(left, 99)}"))
    if thanked:
        return Decision(Verdict.THANKS, via, ("thanks", "comment"))
    if via is Via.REPLY_SIGNUP:  # "王芳" under a sign-up item: a name is a sign-up
        return Decision(Verdict.SIGNUP, via, ("signup-item", "statement"))
    return Decision(Verdict.CHATTER, via, ("comment", f"size={min(left, 99)}"))
