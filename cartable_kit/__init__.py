"""cartable-kit: the classroom kit's agent, the class side of its loan's lessons.

It enrols once with the code on the kit's label, keeps its credential in a file only its
user reads, sends heartbeats, and is the class media side of every lesson of its loan: two
cameras, a microphone and a speaker, over the same signalling as the browser station
(docs/kit.md, docs/protocol.md « Mode boîtier »). It records nothing.
"""

__version__ = "0.1.0"
