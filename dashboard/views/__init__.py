"""One module per dashboard page: each has TITLE, ICON, URL_PATH and `build(marts, filters) -> Page`."""

from dashboard.views import adoption, data_health, delivery, improvement, satisfaction, scorecard

PAGES = (scorecard, delivery, adoption, satisfaction, improvement, data_health)


def address(module) -> str:
    """The page's path in the dashboard's URL: the first page is the home page, at `/`."""
    return "" if module is PAGES[0] else module.URL_PATH
