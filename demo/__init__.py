"""The local end-to-end run: the real control-plane handlers against moto, in simulated time.

``python -m demo [--config config/fleet.yaml] [--out out/demo]`` (``make demo`` runs it after the
synth and its gates). See docs/local-demo.md for what is real and what is simulated.
"""
