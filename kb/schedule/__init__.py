"""The nightly schedule without Prefect: cron expressions (`cron`), and the schedule as
recorded in the store with the scheduler's health (`record`), which `kb status` reads."""
