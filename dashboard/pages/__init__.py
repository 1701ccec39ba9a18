"""One module per page: its layout (``view``) and its callbacks (``register``)."""
