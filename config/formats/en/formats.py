"""One way to write a date or a time on every page and in the admin (Django's
`date`, `time` and default rendering read these): "Dec 2, 2026 14:18 EST",
in the viewer's zone (accounts.middleware.ViewerTimezoneMiddleware) with the
zone shown. ISO 8601 stays for the API and exports."""

DATE_FORMAT = "M j, Y"
TIME_FORMAT = "H:i T"
DATETIME_FORMAT = "M j, Y H:i T"
SHORT_DATE_FORMAT = "M j, Y"
SHORT_DATETIME_FORMAT = "M j, Y H:i T"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "M Y"
