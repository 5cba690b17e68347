"""Publishing: the publish path and its gates, builds, selectors, transforms, schedules, tests and the orchestrators' view."""
