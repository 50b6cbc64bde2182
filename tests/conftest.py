import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import s2sad.api  # noqa: E402

# a planned variant that disagrees with the generic code fails the test
s2sad.api.PLAN_STRICT = True
