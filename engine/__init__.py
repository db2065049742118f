"""riec-engine: routes partner signals to the RIECs, LFTs, LIEC and EURIEC that must get them."""
