from contracts.events import EVENT_TYPES, Event, PoisonEvent, parse_event
from contracts.topics import Topic, dlq_topic

__all__ = ["EVENT_TYPES", "Event", "PoisonEvent", "Topic", "dlq_topic", "parse_event"]
