"""The admin surface: admin API, dashboard, metrics, and who may use them."""
