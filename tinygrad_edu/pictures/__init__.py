"""Pictures: network animation (``network_frames`` computes, ``network_anim`` draws)."""
