-- An event's fields become one text value, the names sorted and joined by single spaces
-- (services/audit/entry_view.h, FieldsColumn), instead of a text[] array. VerifyLog reads
-- every column of every event, and PostgreSQL sends an array element by element, each
-- through its own output call: for a read of 20 fields that cost more than all the other
-- columns together. A query for one field splits the value (string_to_array); no index
-- served the array either.
-- The column is rewritten here, with the table locked: on a log of millions of events
-- this takes minutes, during which the audit service cannot append (and reads fail closed).
ALTER TABLE audit.events ALTER COLUMN fields TYPE text USING array_to_string(fields, ' ');
