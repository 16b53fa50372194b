"""Optional: an LLM rewrites a draft from its sources only, through an OpenAI-compatible endpoint.

Any server speaking ``POST {base_url}/chat/completions`` works the same (a hosted API, or a local model
server such as Ollama or vLLM). Off unless ``assist.llm.base_url`` is set; the key, if any, is read from
the environment variable named by ``assist.llm.api_key_env`` (never from the file, never logged).

What is sent: the member's question text and the draft (FAQ answers and staff answers) — no name, no
user id, no chat, no other member's question. The answer is bounded in time (``timeout_seconds`` for
the whole call); any failure, timeout or empty reply returns None and the retrieval draft stays.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

__all__ = ["LlmRewriter"]

log = logging.getLogger(__name__)

SYSTEM_ZH = (
    "你是政务服务中心的答复助手。请把给出的「资料」改写成对居民问题的一段简短、礼貌、准确的答复。"
    "只使用资料中的信息，不要编造电话、地址、时间或政策；资料没有的内容不要写。直接输出答复正文。"
)
SYSTEM_EN = (
    "You help a public service desk answer residents. Rewrite the given material into a short, polite, "
    "accurate answer to the question. Use only the material; never invent phone numbers, addresses, "
    "times or rules. Output only the answer."
)


@dataclass(frozen=True)
class LlmRewriter:
    base_url: str
    model: str
    api_key: str = ""
    timeout_seconds: float = 8.0
    max_chars: int = 1500

    def payload(self, question: str, draft: str, lang: str = "zh") -> dict[str, object]:
        en = lang.startswith("en")
        user = (
            f"Question: {question}\n\nMaterial:\n{draft}" if en else f"问题：{question}\n\n资料：\n{draft}"
        )
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_EN if en else SYSTEM_ZH},
                {"role": "user", "content": user},
            ],
            "temperature": 0.2,
            "stream": False,
        }

    async def rewrite(self, question: str, draft: str, lang: str = "zh") -> str | None:
        """The rewritten draft, or None (off, slow, failed, empty): the caller keeps its draft."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = self.base_url.rstrip("/") + "/chat/completions"
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await asyncio.wait_for(
                    client.post(url, json=self.payload(question, draft, lang), headers=headers),
                    self.timeout_seconds,
                )
            response.raise_for_status()
            data = response.json()
            text = str(data["choices"][0]["message"]["content"] or "").strip()
        except (TimeoutError, httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("LLM rewrite not used (%s: %s); the retrieval draft stays", type(exc).__name__, exc)
            return None
        if not text:
            return None
        return text if len(text) <= self.max_chars else text[: self.max_chars - 1] + "…"
