"""specproof's built-in adapters, installed as `specproof_adapters` (one subpackage per implementation)."""
