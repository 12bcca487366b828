"""The CRM: customers, their phones, custom fields, contact history, search and caller lookup."""
