"""A local model server speaking TensorFlow Serving's REST and gRPC APIs, for runs without
Docker."""
