"""What developers run beside the product: launchers for tests and benchmarks, the docs
generator."""
