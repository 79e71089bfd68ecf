"""Samenspel: live co-creation workshops over WebSockets, with the state in Redis."""
