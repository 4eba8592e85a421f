import { expect } from "chai";
import fc from "fast-check";
import { concat, getAddress, hexlify } from "ethers";

import { billIdOf, billIdOfLabel, BillIdError, drawerOfBillId, randomBillId } from "../../src/bills/ids.js";

/** A 20-byte address, checksummed. */
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => getAddress(hexlify(bytes)));
const serial = fc.uint8Array({ minLength: 12, maxLength: 12 });

describe("bills: ids commit to their drawer (src/bills/ids.ts, BillIdLib)", function () {
  it("is the drawer's address then the 12-byte serial, and gives the drawer back", function () {
    fc.assert(
      fc.property(address, serial, (drawer, s) => {
        const id = billIdOf(drawer, s);
        expect(id).to.equal(concat([drawer, s]).toLowerCase());
        expect(id).to.match(/^0x[0-9a-f]{64}$/);
        expect(drawerOfBillId(id)).to.equal(drawer);
        expect(billIdOf(drawer, hexlify(s))).to.equal(id);
      }),
    );
  });

  it("builds labelled and random ids of the drawer only", function () {
    fc.assert(
      fc.property(address, fc.string(), (drawer, label) => {
        expect(drawerOfBillId(billIdOfLabel(drawer, label))).to.equal(drawer);
        expect(billIdOfLabel(drawer, label)).to.equal(billIdOfLabel(drawer, label));
        expect(drawerOfBillId(randomBillId(drawer))).to.equal(drawer);
      }),
    );
  });

  it("refuses a serial that is not 12 bytes, and an id that is not 32, naming the field", function () {
    const drawer = getAddress(`0x${"11".repeat(20)}`);
    for (const bad of [new Uint8Array(11), new Uint8Array(13), "0x1234", "zz"]) {
      expect(() => billIdOf(drawer, bad))
        .to.throw(BillIdError)
        .with.property("details")
        .that.deep.includes({ field: "serial" });
    }
    for (const bad of ["0x12", `0x${"ab".repeat(33)}`, "nope"]) {
      expect(() => drawerOfBillId(bad))
        .to.throw(BillIdError)
        .with.property("details")
        .that.deep.includes({ field: "id" });
    }
  });
});
