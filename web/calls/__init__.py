"""The calls feature: stored call records, their page and the task that writes them."""
