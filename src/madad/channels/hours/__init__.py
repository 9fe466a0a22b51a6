"""Posted business hours of the live queues: each queue's calendar (time zone, weekly hours,
holidays) and the arithmetic on it. Imports the core only; never chat, phone or metrics."""
