"""The facts feature: the engines' events, stored once each, and the records folded from them."""
