"""The demo carriers' native payloads and how each feed reports them to Silkway."""
