-- Calendar reads ask for an expert's rows that end after one moment and start before
-- another. Indexed on (expert, start), the lookup walked everything the expert ever had
-- before the span's end: its whole past, which only grows. Indexed on (expert, end), it
-- starts at the first row still running at the span's start, so it reads what lies ahead
-- (bounded by how far ahead bookings go), however long the history.
DROP INDEX appointments_expert_time;
CREATE INDEX appointments_expert_end ON appointments (expert_id, end_at);
DROP INDEX absences_expert;
CREATE INDEX absences_expert_end ON absences (expert_id, end_at);
