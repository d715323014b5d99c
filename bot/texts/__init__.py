"""Every user-facing text, in Bahasa Indonesia, one module per feature.

``common`` (roles, the command menu, refusals, how times are written), ``form`` (the
officer's registration form), ``approval``, ``door``, ``oversight``, ``staff``,
``reports``, ``standards``, ``badge``, ``privacy``: import the one you need as
``from bot.texts import door as door_texts``.

Functions take raw values and escape them there, so user input can never become HTML
markup (messages are sent with parse_mode=HTML).
"""
