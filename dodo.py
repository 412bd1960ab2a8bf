from stackdag.dodo import *  # noqa: F401,F403
