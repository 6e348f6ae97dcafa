"""Reports (通报/汇报): the monthly bulletin, the ten-day report and their frozen ledger."""
