"""Suite-wide set-up: the engine and the emulator are gevent programs, so the tests run patched."""

from gevent import monkey

monkey.patch_all()
