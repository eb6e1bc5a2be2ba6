"""A tiny MCP server for tests: ``python mcp_server.py`` speaks stdio;
``python mcp_server.py --http PORT`` serves streamable HTTP on 127.0.0.1:PORT at ``/mcp``.

Its tools: ``echo``, ``add``, ``fail`` (an error result), ``slow`` (sleeps), ``crash`` (the
process exits), ``secret`` (reads an environment variable), ``header`` (reads a request
header, over HTTP) and ``picture`` (a non-text part). ``START_DELAY`` in its environment
makes it wait that many seconds before it serves.
"""

import asyncio
import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ImageContent, TextContent

server = MCPServer("roost-test")


@server.tool(description="Say the text back.")
def echo(text: str) -> str:
    return text


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> str:
    return str(a + b)


@server.tool(description="Always fails.")
def fail(reason: str = "it went wrong") -> str:
    raise ToolError(reason)


@server.tool(description="Sleep, then answer.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds:g} s"


@server.tool(description="End this server's process at once.")
def crash() -> str:
    os._exit(3)


@server.tool(description="The value of an environment variable.")
def secret(name: str) -> str:
    return os.environ.get(name, "")


@server.tool(description="The value of a header of the HTTP request that called this.")
def header(name: str, ctx: Context) -> str:
    return (ctx.headers or {}).get(name.lower(), "")


@server.tool(description="Some text and a picture.")
def picture() -> list[TextContent | ImageContent]:
    return [
        TextContent(type="text", text="a red dot"),
        ImageContent(type="image", data="iVBORw0KGgo=", mime_type="image/png"),
    ]


def main() -> None:
    time.sleep(float(os.environ.get("START_DELAY", "0")))  # a server slow to come up
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()


if __name__ == "__main__":
    main()
