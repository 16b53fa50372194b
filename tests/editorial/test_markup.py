"""Markdown bodies become valid Telegram HTML: allowed tags only, balanced, everything escaped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.editorial.markup import markdown_to_telegram_html as render
from tests.editorial.telegram_html import telegram_html_errors, visible_text


def test_inline_formatting() -> None:
    assert render("**粗体** *斜体* ~~删除~~ ^^下划线^^ `代码`") == (
        "<b>粗体</b> <i>斜体</i> <s>删除</s> <u>下划线</u> <code>代码</code>"
    )


def test_paragraphs_become_blank_lines_and_line_breaks_stay() -> None:
    assert render("第一段\n第一段第二行\n\n\n第二段") == "第一段\n第一段第二行\n\n第二段"


def test_heading_is_bold() -> None:
    assert render("# 公积金新政\n正文") == "<b>公积金新政</b>\n\n正文"


def test_lists_become_bullet_lines() -> None:
    out = render("办理材料：\n\n- 身份证\n- 户口本\n  - 原件\n\n1. 取号\n2. 递件\n")
    assert out == "办理材料：\n\n• 身份证\n• 户口本\n  ◦ 原件\n\n1. 取号\n2. 递件"


def test_everything_is_escaped() -> None:
    out = render("a < b & c > d <script>x</script> <b>raw</b>")
    assert out == "a &lt; b &amp; c &gt; d &lt;script&gt;x&lt;/script&gt; &lt;b&gt;raw&lt;/b&gt;"
    assert render("<div>\nblock html\n</div>") == "&lt;div&gt;\nblock html\n&lt;/div&gt;"


def test_links_keep_safe_urls_only() -> None:
    assert render('[通知](https://x.gov.cn/a?b=1&c="2")') == (
        '<a href="https://x.gov.cn/a?b=1&amp;c=%222%22">通知</a>'
    )
    assert render("[坏](javascript:alert(1))") == "坏"
    assert render("见 https://x.gov.cn/p") == '见 <a href="https://x.gov.cn/p">https://x.gov.cn/p</a>'


def test_code_block_and_quote() -> None:
    assert render("```\nif a < b:\n```") == "<pre>if a &lt; b:</pre>"
    assert render("> 提示\n> > 嵌套") == "<blockquote>提示\n\n嵌套</blockquote>"


SAMPLE = """# 标题 <x>

正文 **加粗 *斜体* 链接 [a](https://a.cn/?q=<>&)** 结束
> 引用 `code <b>`
> - 列表 ~~删~~
>   > 深层引用

1. 一
   - 二 ![图](https://img.cn/x.png)

```python
print("<b>")
```
---
<span>raw</span> &amp; &copy;
"""


def test_sample_is_valid_telegram_html() -> None:
    out = render(SAMPLE)
    assert telegram_html_errors(out) == []
    assert "深层引用" in visible_text(out) and 'print("<b>")' in visible_text(out)


_PIECES = [*"ab中文 \n*_~`[]()<>&\"'#->!^1.:/h", "https://x.cn/", "\n\n", "> ", "- ", "```", "&amp;"]
_markdownish = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(_markdownish)
def test_any_input_gives_valid_telegram_html(text: str) -> None:
    out = render(text)
    assert telegram_html_errors(out) == [], (text, out)


def test_checker_catches_what_telegram_rejects() -> None:
    assert telegram_html_errors("<b>x</i>")
    assert telegram_html_errors("<div>x</div>")
    assert telegram_html_errors("a < b")
    assert telegram_html_errors("a & b")
    assert telegram_html_errors("<blockquote><blockquote>x</blockquote></blockquote>")
    assert telegram_html_errors('<a href="https://x">ok</a> &amp; <b>x</b>') == []
