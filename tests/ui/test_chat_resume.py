"""Answers that survive a reload or a dropped connection, and the connection's state in words, in real Chromium
against the real stack on the bundled model (flows ui/e2e/chat_resume.mjs and ui/e2e/connection.mjs)."""

from __future__ import annotations

from tests.support.ui import AppStack, run_flow

# the flows read the server's answer back through graphql-ws in node; node 20 has WebSocket behind this flag
NODE_WS = "--experimental-websocket"


def test_reload_mid_answer_resumes_to_the_servers_text(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "chat_resume", timeout=420, NODE_OPTIONS=NODE_WS)
    assert result.figures["fromSeq"] > 0
    assert result.figures["chars"] > 0


def test_dropped_connection_resumes_and_unreachable_reads_in_words(app_stack: AppStack) -> None:
    result = run_flow(app_stack, "connection", timeout=480, NODE_OPTIONS=NODE_WS)
    assert result.figures["closedSockets"] >= 1
    assert result.figures["error"].startswith("Can't reach the server")
