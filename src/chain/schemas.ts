/**
 * Wire schemas more than one part reads (zod, with their OpenAPI examples): an address in either accepted form,
 * read checksummed.
 */
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { getAddress } from "ethers";
import { z } from "zod";

extendZodWithOpenApi(z);

/** An address, all lower case or EIP-55 checksummed, read checksummed; a wrong checksum is refused. */
export const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte hex address")
  .refine((value) => {
    try {
      getAddress(value);
      return true;
    } catch {
      return false;
    }
  }, "has a wrong EIP-55 checksum (use all lower case or the checksummed form)")
  .transform((value) => getAddress(value))
  .openapi({ example: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" });
