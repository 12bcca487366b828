"""IVR messages: voicemail and recorded messages, SMS requests and survey answers (web side).

The engine's record, voicemail, sms and survey nodes emit events (fs_cc.events); the worker
stores them as rows here in the same commit as the facts (web.facts), then sends what must be
sent: the voicemail e-mail (web.messages.mail) and the SMS (web.messages.gateways), retried by
the worker with the reason kept on the row.
"""
