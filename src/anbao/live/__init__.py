"""Live 实时推送: the WebSocket stream of an event's bus messages, with replay after reconnects."""
