"""The package version (one place: read by the root package, the CLI and the MCP server)."""

__version__ = "0.1.0"
