"""Crowd vs AI: a show on the big screen that everyone in front of it plays from their phone.

``timeline`` (the rules and the clock, pure), ``board`` (where a show's state lives: disk or
Redis, like the game store), ``names`` (nicknames checked for the big screen) and ``shows``
(what the pages call: open, join, answer, count, rank, record). The pages are
``dashboard/pages/show.py`` (the big screen) and ``dashboard/pages/join.py`` (a phone).
"""
