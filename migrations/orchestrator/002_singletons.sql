-- Work that one replica at a time should do (the GitHub Actions reconciler): a renewable lease.
create table orchestrator.singletons (
  name text primary key,
  owner text not null,
  expires_at timestamptz not null
);
