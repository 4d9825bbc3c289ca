-- CSV exports are opened in spreadsheets, where a cell whose text begins
-- with = + - @, a tab or a carriage return is read as a formula (CSV
-- injection, OWASP). Names, ids and units in billing come from QuickBooks and
-- Pax8, so the reports' text columns go through report_text(): while a
-- report is written as CSV (the transaction's atrium.r_csv is 'on', set by
-- services/billing_reports.c) such a cell gets a leading ' so the
-- spreadsheet shows it as text; JSON answers get the text as stored.
CREATE FUNCTION report_text(t text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN current_setting('atrium.r_csv', true) = 'on' AND t ~ '^[=+@\t\r-]'
                      THEN '''' || t ELSE t END $$;
