"""The game itself: a multi-page Dash app, one game per browser session."""
