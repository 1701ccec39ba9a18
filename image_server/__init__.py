"""The game's photo pool (the model's test split) and its manifest, served over HTTP."""
