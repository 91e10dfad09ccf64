"""The agents' inbox: conversation lists, threads, replies and notes, labels, canned
responses, translation and the handoff board."""
