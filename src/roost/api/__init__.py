"""HTTP and WebSocket: routers, request and response models, dependencies."""
