"""The explainer service: the model's Grad-CAM map of a photo, drawn over the photo."""
