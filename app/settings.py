"""Server settings in one place."""

from __future__ import annotations

# Loopback by default: a lecture laptop should not expose itself to the room unless asked.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# A `run` message is a few hundred bytes; 64 KiB leaves room and refuses floods.
WS_MAX_MESSAGE_BYTES = 64 * 1024
