"""The Redis connection used when ``ROOST_REDIS_URL`` is set."""

from typing import Any


def connect(url: str) -> Any:
    """A Redis client for ``url``; the ``redis`` extra must be installed."""
    try:
        from redis.asyncio import Redis
    except ImportError as missing:
        raise RuntimeError(
            "ROOST_REDIS_URL is set but the redis package is missing: pip install 'roost[redis]'"
        ) from missing
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


async def ping(client: Any) -> bool:
    try:
        return bool(await client.ping())
    except Exception:
        return False
