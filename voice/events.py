"""Bus event types the voice pipeline fires, one per stage, each carrying its timing."""

from typing import Final

EVENT_VOICE_WAKE: Final = "voice_wake_detected"
EVENT_VOICE_END_OF_SPEECH: Final = "voice_end_of_speech"
EVENT_VOICE_TRANSCRIPT: Final = "voice_transcript"
EVENT_VOICE_INTENT: Final = "voice_intent"
EVENT_VOICE_ACTION: Final = "voice_action"
EVENT_VOICE_REPLY: Final = "voice_reply"
EVENT_VOICE_ERROR: Final = "voice_error"
EVENT_VOICE_TIMER_FINISHED: Final = "voice_timer_finished"
EVENT_VOICE_GRAMMAR: Final = "voice_grammar_rebuilt"
