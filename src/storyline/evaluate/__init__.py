"""Quality measurement on labelled data: the same code the tests and `storyline eval` use."""
