"""TOHtrack: follow patients with transient osteoporosis of the hip and regional migratory osteoporosis."""

__version__ = "0.1.0"
