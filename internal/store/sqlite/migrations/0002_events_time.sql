-- entrawatch store, schema version 2: events by tenant and time, for the
-- scheduled Sentinel rules' windows (Store.Events).

CREATE INDEX events_tenant_time ON events (tenant, time);
