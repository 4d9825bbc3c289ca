-- CSV exports are opened in spreadsheets, where a cell whose text begins
-- with = + - @, a tab or a carriage return is read as a formula (CSV
-- injection, OWASP). Tenants write names and descriptions, so csv_field()
-- gives such a cell a leading ' (the spreadsheet shows it as text), then
-- quotes it as before.
CREATE OR REPLACE FUNCTION csv_field(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT '"' || replace(CASE WHEN t ~ '^[=+@\t\r-]' THEN '''' || t ELSE COALESCE(t, '') END,
                                '"', '""') || '"' $$;
