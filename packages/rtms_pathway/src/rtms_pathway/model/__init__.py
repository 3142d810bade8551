"""The rTMS pathway vocabulary (msgspec Structs), one module per area."""
