/**
 * PINs rejected outright because too many people choose them, by length. Source: Nick Berry,
 * DataGenetics, "PIN analysis" (2012, https://www.datagenetics.com/blog/september32012/), which ranks
 * 3.4 million leaked 4-digit passwords and gives the most frequent codes of 5 to 10 digits; the
 * 4-digit list is its top twenty plus what the article singles out (2580, the keypad's middle column;
 * 0007, 1984). Many are also caught by the pattern checks; they stay here so the list can be compared
 * with its source. PINs of 11 and 12 digits were not ranked: the pattern checks cover them.
 */
export const COMMON_PINS_BY_LENGTH: Readonly<Record<number, readonly string[]>> = {
  4: [
    '1234', '1111', '0000', '1212', '7777', '1004', '2000', '4444', '2222', '6969',
    '9999', '3333', '5555', '6666', '1122', '1313', '8888', '4321', '2001', '1010',
    '2580', '0007', '1984',
  ],
  5: [
    '12345', '11111', '55555', '00000', '54321', '13579', '77777', '22222', '12321', '99999',
    '33333', '00700', '90210', '88888', '38317', '09876', '44444', '98765', '01234', '42069',
  ],
  6: [
    '123456', '654321', '111111', '000000', '123123', '666666', '121212', '112233', '789456', '159753',
    '777777', '555555', '101010', '696969', '222222', '999999', '147258', '888888', '007007', '123321',
    '111222', '131313',
  ],
  7: [
    '1234567', '7654321', '1111111', '8675309', '1212123', '0000000', '4830033', '7777777', '5555555', '1357924',
    '2222222', '9999999', '3333333', '1234321', '7894561',
  ],
  8: [
    '12345678', '11111111', '88888888', '87654321', '00000000', '12341234', '69696969', '12121212', '11223344', '12344321',
    '77777777', '99999999', '22222222', '55555555', '33333333', '44444444', '11112222', '13131313', '10041004', '12345679',
  ],
  9: ['123456789', '111111111', '987654321', '999999999', '123123123', '789456123', '147258369', '000000000', '741852963', '123454321'],
  10: ['1234567890', '0123456789', '1111111111', '9876543210', '0987654321', '1357924680', '1122334455', '1212121212'],
};

export const COMMON_PINS: readonly string[] = Object.values(COMMON_PINS_BY_LENGTH).flat();
