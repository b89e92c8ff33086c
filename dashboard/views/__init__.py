"""One module per dashboard page: each has TITLE, ICON, URL_PATH and `build(marts, filters) -> Page`."""

from dashboard.views import adoption, data_health, delivery, improvement, satisfaction, scorecard

PAGES = (scorecard, delivery, adoption, satisfaction, improvement, data_health)
