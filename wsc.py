import asyncio, sys, websockets, logging
logging.basicConfig(level=logging.DEBUG)
async def main():
    ws = await websockets.connect(sys.argv[1], subprotocols=["sip"], compression=None)
    await ws.send(open(sys.argv[2]).read())
    print(await asyncio.wait_for(ws.recv(), 3))
asyncio.run(main())
